"""The presales part of ``seed_demo``: a proposal template and two prospects, each with an
estimate and a proposal; the first accepted (its customer and draft contract exist), the
second still open with two versions. Idempotent: a prospect already estimated is left alone.

Run after the price book and the USD rates are loaded (``seed_demo`` does that first)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.periods import business_day, next_period
from presales.estimates import estimate_create
from presales.models import Estimate, ProposalTemplate
from presales.proposals import Choice, proposal_accept, proposal_version_create
from presales.rules import EstimateInput, WorkloadInput

TEMPLATE = {
    "name": "标准条款 2026",
    "sla_text": "API 月可用性 99.9%；未达标时按不可用时长比例减免当月服务费。\n计划内维护提前 48 小时通知。",
    "support_text": "7×24 小时工单支持；P1 故障 30 分钟内响应，4 小时内给出处理方案。\n专属客户经理与售前工程师对接。",
    "terms_text": "按实际用量月结：每月初出具上月对账单，客户确认后开具增值税发票，对公转账付款。\n"
    "本方案价格按所述需求估算，实际费用以月度账单为准；模型官方调价时提前 30 天通知。",
}

PROSPECTS = [
    {
        "prospect": "杭州云栖电商有限公司",
        "scenario": "商品描述生成与智能客服",
        "discount_percent": Decimal("8"),
        "monthly_growth_percent": Decimal("5"),
        "workloads": [
            WorkloadInput(
                name="商品描述生成",
                daily_requests=50_000,
                input_tokens=800,
                output_tokens=300,
                cached_share=Decimal("0.30"),
                models=[("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("google", "gemini-2.5-flash")],
            ),
            WorkloadInput(
                name="智能客服",
                average_qps=Decimal("2.5"),
                input_tokens=2_400,
                output_tokens=400,
                cached_share=Decimal("0.60"),
                models=[("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-4o-mini")],
            ),
        ],
        "accept": {"customer_code": "YUNQI", "tax_id": "91330106MA2KD7XQ5", "contract_number": "HT-YUNQI-{year}-01"},
    },
    {
        "prospect": "苏州星河智能制造股份有限公司",
        "scenario": "设备工单摘要",
        "discount_percent": Decimal("5"),
        "monthly_growth_percent": Decimal("0"),
        "workloads": [
            WorkloadInput(
                name="工单摘要",
                daily_requests=8_000,
                input_tokens=3_000,
                output_tokens=250,
                models=[("anthropic", "claude-sonnet-4-5"), ("google", "gemini-2.5-flash")],
            )
        ],
        "accept": None,
    },
]


def _uscc(first17: str) -> str:
    from customers.validators import uscc_check_character

    return first17 + uscc_check_character(first17)


def _cheapest_choices(estimate: Estimate) -> list[Choice]:
    from presales.rules import cheapest_options

    options = list(estimate.options.select_related("workload"))
    return [Choice(o.workload.name, o.provider, o.model) for o in cheapest_options(options).values()]


@transaction.atomic
def seed_presales(*, by=None) -> None:
    if not ProposalTemplate.objects.exists():
        ProposalTemplate.objects.create(**TEMPLATE)
    today = business_day(timezone.now())
    for spec in PROSPECTS:
        if Estimate.objects.filter(prospect=spec["prospect"]).exists():
            continue
        estimate = estimate_create(
            request=EstimateInput(
                prospect=spec["prospect"],
                scenario=spec["scenario"],
                workloads=spec["workloads"],
                discount_percent=spec["discount_percent"],
                monthly_growth_percent=spec["monthly_growth_percent"],
                as_of=timezone.now(),
            ),
            by=by,
        )
        chosen = _cheapest_choices(estimate)
        valid_until = today + timedelta(days=30)
        proposal_version_create(estimate=estimate, valid_until=valid_until, chosen=chosen, by=by)
        if spec["accept"] is None:
            # A second version after the prospect asked for longer payment terms.
            proposal_version_create(
                estimate=estimate, valid_until=valid_until, chosen=chosen, payment_terms_days=45, by=by
            )
            continue
        accept = spec["accept"]
        starts_on = next_period(today.replace(day=1))
        proposal_accept(
            proposal=estimate.proposal,
            customer_code=accept["customer_code"],
            tax_id=_uscc(accept["tax_id"]),
            contract_number=accept["contract_number"].format(year=starts_on.year),
            starts_on=starts_on,
            by=by,
        )
