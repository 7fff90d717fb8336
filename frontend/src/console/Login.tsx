import { useState } from "preact/hooks";
import { api } from "./api";
import type { Agent } from "./types";
import { t } from "./i18n";
import { errorText } from "./errors";

export function Login({ onDone }: { onDone: (agent: Agent, csrf: string) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await api<{ agent: Agent; csrf_token: string }>("POST", "/api/auth/login", {
        username,
        password,
      });
      onDone(r.agent, r.csrf_token);
    } catch (err: any) {
      setError(err?.code === "http_error" || !err ? t("login.failed") : errorText(err));
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <form class="login-box" onSubmit={submit} aria-label={t("login.form")}>
        <h1>{t("login.title")}</h1>
        <label>
          {t("login.username")}
          <input
            name="username"
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            required
            autoFocus
          />
        </label>
        <label>
          {t("login.password")}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        {error && (
          <p class="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("login.busy") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}
