"""Reports: a store of facts fed by listeners on the event spine, metrics over it, dashboards'
API, and Prometheus metrics. Formulas in docs/reports.md."""
