import { useEffect, useReducer, useState } from "preact/hooks";
import { Agents } from "./admin/Agents";
import { CannedEditor } from "./assist/CannedEditor";
import { KnowledgeBase } from "./assist/KnowledgeBase";
import { Audit } from "./admin/Audit";
import { Tokens } from "./admin/Tokens";
import { Rules } from "./admin/Rules";
import { Sites } from "./admin/Sites";
import { Webhooks } from "./admin/Webhooks";
import { api, ApiError, setCsrf } from "./api";
import { Callbacks } from "./Callbacks";
import { ChatPane } from "./ChatPane";
import { JoinByCode } from "./cobrowse/CobrowsePanel";
import { Contacts } from "./Contacts";
import { ContextPanel } from "./ContextPanel";
import { LANGS, lang, onLangChange, setLang, t, tValue, type ConsoleLang } from "./i18n";
import { Inbox } from "./Inbox";
import { Login } from "./Login";
import { askPermission, notificationState, prefs, unlockAudio } from "./notify";
import { Radar } from "./Radar";
import { Reports } from "./Reports";
import { MAX_TABS, Store } from "./store";
import { Supervisor } from "./Supervisor";
import type { Agent } from "./types";
import { visitorName } from "./types";
import { errorText } from "./errors";

type View =
  | "chats"
  | "callbacks"
  | "radar"
  | "kb"
  | "canned"
  | "supervisor"
  | "reports"
  | "rules"
  | "sites"
  | "agents"
  | "webhooks"
  | "contacts"
  | "tokens"
  | "audit";

const PATHS: Record<View, string> = {
  chats: "/console",
  callbacks: "/console/callbacks",
  contacts: "/console/contacts",
  radar: "/console/radar",
  kb: "/console/kb",
  canned: "/console/canned",
  supervisor: "/console/supervisor",
  reports: "/console/reports",
  rules: "/console/admin/rules",
  sites: "/console/admin/sites",
  agents: "/console/admin/agents",
  webhooks: "/console/admin/webhooks",
  tokens: "/console/admin/tokens",
  audit: "/console/admin/audit",
};

function viewFromPath(): View {
  const p = location.pathname;
  const hit = (Object.keys(PATHS) as View[]).find((v) => v !== "chats" && p.startsWith(PATHS[v]));
  return hit ?? "chats";
}

export function App() {
  const [phase, setPhase] = useState<"loading" | "login" | "ready">("loading");
  const [store, setStore] = useState<Store | null>(null);
  const [, relang] = useReducer((x: number) => x + 1, 0);
  useEffect(() => onLangChange(() => relang(undefined)), []);

  function begin(agent: Agent, csrf: string) {
    setCsrf(csrf);
    const s = new Store(agent, () => {
      s.stop();
      setStore(null);
      setPhase("login");
    });
    setStore(s);
    setPhase("ready");
    if (location.pathname.startsWith("/console/login")) history.replaceState(null, "", "/console");
    s.start().catch((e) => s.flash(errorText(e)));
  }

  useEffect(() => {
    api<{ agent: Agent; csrf_token: string }>("GET", "/api/auth/me").then(
      (r) => begin(r.agent, r.csrf_token),
      (e) => {
        if (!(e instanceof ApiError) || e.status === 401) {
          if (!location.pathname.startsWith("/console/login")) history.replaceState(null, "", "/console/login");
        }
        setPhase("login");
      },
    );
  }, []);

  if (phase === "loading") return <p class="loading">{t("loading")}</p>;
  if (phase === "login" || !store) return <Login onDone={begin} />;
  return (
    <Shell
      store={store}
      onLogout={() => {
        store.stop();
        setStore(null);
        setPhase("login");
        history.replaceState(null, "", "/console/login");
      }}
    />
  );
}

function Shell({ store, onLogout }: { store: Store; onLogout: () => void }) {
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const [view, setView] = useState<View>(viewFromPath());
  const [perm, setPerm] = useState(notificationState());

  useEffect(() => store.subscribe(() => rerender(undefined)), [store]);
  useEffect(() => {
    const onPop = () => setView(viewFromPath());
    const onKey = (e: KeyboardEvent) => keyboard(store, e);
    const onFocus = () => store.markRead();
    const onGesture = () => unlockAudio();
    window.addEventListener("popstate", onPop);
    window.addEventListener("keydown", onKey);
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onFocus);
    document.addEventListener("pointerdown", onGesture);
    document.addEventListener("keydown", onGesture);
    return () => {
      window.removeEventListener("popstate", onPop);
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onFocus);
      document.removeEventListener("pointerdown", onGesture);
      document.removeEventListener("keydown", onGesture);
    };
  }, [store]);

  const unread = store.totalUnread();
  useEffect(() => {
    document.title = (unread ? `(${unread}) ` : "") + t("login.title");
  }, [unread]);

  function go(v: View) {
    history.pushState(null, "", PATHS[v]);
    setView(v);
  }

  async function setStatus(status: string) {
    try {
      store.me = await api<Agent>("PATCH", `/api/agents/${store.me.id}`, { status });
      store.changed();
    } catch (e: any) {
      store.flash(errorText(e));
    }
  }

  async function logout() {
    try {
      await api("POST", "/api/auth/logout");
    } finally {
      onLogout();
    }
  }

  const isAdmin = store.me.role === "admin";
  const canSupervise = isAdmin || store.me.role === "supervisor";
  const tab = (v: View, label: string) => (
    <button class={view === v ? "on" : ""} data-view={v} aria-current={view === v ? "page" : undefined} onClick={() => go(v)}>
      {label}
    </button>
  );
  const skip = (target: string, label: string) => (
    <a
      class="skip-link"
      href={`#${target}`}
      onClick={(e) => {
        const el = document.getElementById(target);
        if (!el) return;
        e.preventDefault();
        el.focus();
      }}
    >
      {label}
    </a>
  );
  return (
    <div class="shell">
      {view === "chats" && skip("conversations", t("skip.conversations"))}
      {view === "chats" && store.active !== null && skip(`reply-${store.active}`, t("skip.reply"))}
      <header class="topbar">
        <strong class="brand">Tresen</strong> {/* i18n-ignore: the product name */}
        <nav class="views" aria-label={t("nav.main")}>
          {tab("chats", `${t("nav.chats")}${unread ? ` (${unread})` : ""}`)}
          {tab("callbacks", `${t("nav.callbacks")}${store.callbacks.dueNow ? ` (${store.callbacks.dueNow})` : ""}`)}
          {/* a count only while the list is live: otherwise we do not know it */}
          {tab("contacts", t("nav.contacts"))}
          {tab("radar", store.radar.live ? `${t("nav.visitors")} (${store.radar.visitors.size})` : t("nav.visitors"))}
          {tab("kb", t("nav.kb"))}
          {tab("canned", t("nav.canned"))}
          {canSupervise && tab("supervisor", t("nav.supervisor"))}
          {canSupervise && tab("reports", t("nav.reports"))}
          {isAdmin && (
            <>
              {tab("rules", t("nav.rules"))}
              {tab("sites", t("nav.sites"))}
              {tab("agents", t("nav.agents"))}
              {tab("webhooks", t("nav.webhooks"))}
              {tab("tokens", t("nav.tokens"))}
              {tab("audit", t("nav.audit"))}
            </>
          )}
        </nav>
        <span class="spacer" />
        <JoinByCode store={store} />
        <span class={`conn conn-${store.conn}`} data-testid="connection">{tValue("conn", store.conn)}</span>
        <label class="agent-status">
          <span dir="auto">{store.me.display_name}</span>
          <select
            name="agent-status"
            value={store.me.status}
            onChange={(e) => void setStatus(e.currentTarget.value)}
            aria-label={t("header.status")}
          >
            {store.me.status !== "online" && store.me.status !== "away" && (
              <option value={store.me.status} disabled>
                {store.me.status}
              </option>
            )}
            <option value="online">{t("header.online")}</option>
            <option value="away">{t("header.away")}</option>
          </select>
        </label>
        {perm === "default" && (
          <button onClick={async () => setPerm(await askPermission())}>{t("header.notifications")}</button>
        )}
        <label class="sound">
          <input
            type="checkbox"
            checked={prefs.sound}
            onChange={(e) => {
              prefs.sound = e.currentTarget.checked;
              store.changed();
            }}
          />
          {t("header.sound")}
        </label>
        <select
          name="console-lang"
          class="lang-switch"
          aria-label={t("header.language")}
          value={lang()}
          onChange={(e) => setLang(e.currentTarget.value as ConsoleLang)}
        >
          {LANGS.map(([code, name]) => (
            <option key={code} value={code} lang={code}>
              {name}
            </option>
          ))}
        </select>
        <button onClick={() => void logout()}>{t("header.logout")}</button>
      </header>
      {store.notice && (
        <div class="notice" role="status">
          {store.notice}
        </div>
      )}
      {view === "chats" && <Chats store={store} />}
      {view === "callbacks" && (
        <Callbacks
          store={store}
          openChat={(id) => {
            go("chats");
            void store.open(id);
          }}
        />
      )}
      {view === "contacts" && (
        <Contacts
          store={store}
          openChat={(id) => {
            go("chats");
            void store.open(id);
          }}
        />
      )}
      {view === "radar" && <Radar store={store} />}
      {view === "kb" && <KnowledgeBase store={store} />}
      {view === "canned" && <CannedEditor store={store} />}
      {view === "supervisor" && canSupervise && <Supervisor store={store} />}
      {view === "reports" && canSupervise && (
        <Reports
          store={store}
          openChat={(id) => {
            go("chats");
            void store.open(id);
          }}
        />
      )}
      {view === "rules" && isAdmin && <Rules store={store} />}
      {view === "sites" && isAdmin && <Sites />}
      {view === "agents" && isAdmin && <Agents />}
      {view === "webhooks" && isAdmin && <Webhooks />}
      {view === "tokens" && isAdmin && <Tokens />}
      {view === "audit" && isAdmin && <Audit />}
    </div>
  );
}

function Chats({ store }: { store: Store }) {
  const active = store.active;
  return (
    <div class="chats">
      <Inbox store={store} />
      <main class="work">
        {/* A list of chat buttons (aria-current marks the shown one), each with its close
            button beside it: a role=tablist may hold tabs only. */}
        <ul class="tabs" aria-label={t("tabs.label", { n: MAX_TABS })}>
          {store.tabs.map((id, i) => {
            const c = store.convs.get(id);
            const typing = store.typing.has(id);
            const name = c ? visitorName(c.visitor, c.visitor_id) : `#${id}`;
            return (
              <li class={"tab" + (id === active ? " active" : "")} key={id} data-tab={id}>
                <button class="tab-open" aria-current={id === active ? "true" : undefined} onClick={() => store.activate(id)} title={`Alt+${i + 1}`} /* i18n-ignore: a key */>
                  <span class="tab-key">{i + 1}</span>
                  <span dir="auto">{name}</span>
                  {c && c.unread > 0 && <span class="unread">{c.unread}</span>}
                  {typing && <span class="dots">…</span>}
                </button>
                <button class="tab-close" aria-label={t("tabs.close", { name })} onClick={() => store.closeTab(id)}>×</button>
              </li>
            );
          })}
        </ul>
        {active !== null ? (
          <ChatPane key={active} store={store} convId={active} />
        ) : (
          <div class="placeholder">
            <p>{t("chats.pick")}</p>
            <p class="hint">{t("chats.keys")}</p>
          </div>
        )}
      </main>
      {active !== null && <ContextPanel store={store} convId={active} />}
    </div>
  );
}

function keyboard(store: Store, e: KeyboardEvent): void {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return; // Alt+Shift: suggestions
  const digit = /^Digit([1-9])$/.exec(e.code);
  if (digit) {
    const id = store.tabs[Number(digit[1]) - 1];
    if (id !== undefined) store.activate(id);
    e.preventDefault();
  } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    store.switchBy(e.key === "ArrowDown" ? 1 : -1);
    e.preventDefault();
  } else if (e.code === "KeyW" && store.active !== null) {
    store.closeTab(store.active);
    e.preventDefault();
  } else if (e.code === "KeyN") {
    const next = store.inbox().find((c) => c.unread > 0);
    if (next) void store.open(next.id);
    e.preventDefault();
  }
}
