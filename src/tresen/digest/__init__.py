"""The summary of a day or a week mailed to supervisors (docs/reports.md, "Summary mail"):
settings (``api.py``), periods (``periods.py``), figures from the reports' own functions
(``figures.py``), the mail (``mail.py``) and the worker that queues and sends it once per
period (``worker.py``)."""
