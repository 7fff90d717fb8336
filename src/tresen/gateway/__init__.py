"""The WebSocket gateway: endpoints, connections, frame routing and delivery of events to sockets.

Above the domains: each domain registers its own frame handlers (``tresen.wiring``), so the
real-time core below never imports one."""
