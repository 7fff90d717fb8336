"""The reports API and Prometheus /metrics over HTTP: who may read them, CSV, the token."""

from __future__ import annotations

from pathlib import Path

from tests.support.actors import next_frame, raw_socket, running_scenario


async def test_reports_are_for_supervisors_and_export_csv(tmp_path: Path) -> None:
    async with running_scenario(tmp_path) as (srv, sc):
        visitor = await sc.visitor()
        ws = await raw_socket(visitor.ws_url())
        await next_frame(ws, "welcome")
        await ws.send('{"type": "send", "client_msg_id": "c1", "body": "Hallo"}')
        await next_frame(ws, "ack")
        await srv.app.state.reports.flush()
        assert (await sc.ben.http.get("/api/reports/summary")).status_code == 403  # an agent
        summary = (await sc.anna.http.get("/api/reports/summary")).json()  # an admin
        assert summary["volume"]["total"] == 1 and summary["service"]["offered"] == 1
        r = await sc.anna.http.get("/api/reports/conversations", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        lines = r.text.splitlines()
        assert lines[0].startswith("conversation_id,site_id,channel") and len(lines) == 2
        bad = await sc.anna.http.get("/api/reports/summary", params={"start": "2026-01-02"})
        assert bad.status_code == 422 and "time zone" in bad.json()["message"]
        which = await sc.anna.http.get("/api/reports/conversations", params={"which": "x"})
        assert which.status_code == 422
        await ws.close()


async def test_prometheus_metrics_need_the_token(tmp_path: Path) -> None:
    async with running_scenario(tmp_path, metrics_token="s3cret") as (_srv, sc):
        visitor = await sc.visitor()
        ws = await raw_socket(visitor.ws_url())
        await next_frame(ws, "welcome")
        await ws.send('{"type": "send", "client_msg_id": "c1", "body": "Hallo", "skill": "Sales"}')
        await next_frame(ws, "ack")
        http = sc.anna.http
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        r = await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
        text = r.text
        assert 'tresen_messages_total{author="visitor"} 1.0' in text
        assert 'tresen_sockets{kind="visitor"} 1.0' in text
        assert 'tresen_queue_length{skill="Sales"} 1.0' in text
        assert 'tresen_up{backend="database"} 1.0' in text
        assert "tresen_delivery_seconds_count 1.0" in text
        assert "process_cpu_seconds_total" in text
        await ws.close()
    (tmp_path / "off").mkdir()
    async with running_scenario(tmp_path / "off") as (_srv, sc):
        assert (await sc.anna.http.get("/metrics")).status_code == 404  # no token: off
