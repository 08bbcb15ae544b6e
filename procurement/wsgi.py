"""WSGI entry point: ``gunicorn procurement.wsgi``.

The gateway's allowance check is answered by a lean path in front of Django
(procurement.fastpath); every other request goes through Django as usual.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")

from procurement.fastpath import wrap  # noqa: E402 - needs the settings module set above

application = wrap(get_wsgi_application())
