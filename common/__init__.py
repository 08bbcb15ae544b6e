"""What every app may use and which knows none of them: the API error shape and its
exceptions (``common.api``), the PDF helper (``common.pdf``), the admin's CSV export
(``common.admin_export``) and enqueueing a task by name on commit (``common.tasks``).
Nothing here imports customers, billing, invoices, presales or procurement."""
