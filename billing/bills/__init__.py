"""Bills: the month close, the lifecycle after issue (payments), documents, receivables and the audit trail."""
