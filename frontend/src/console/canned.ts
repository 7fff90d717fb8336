// Default canned responses and their variables ({{visitor.name}}, {{agent.name}}, ...).

export interface Canned {
  shortcut: string;
  title: string;
  body: string;
}

export const DEFAULT_CANNED: Canned[] = [
  {
    shortcut: "hello",
    title: "Greeting",
    body: "Hello {{visitor.name}}, this is {{agent.name}}. How can I help you today?",
  },
  {
    shortcut: "moment",
    title: "One moment",
    body: "Thank you, {{visitor.name}}. Give me a moment while I look into this.",
  },
  {
    shortcut: "promo",
    title: "Promo code problem",
    body:
      "I'm sorry the promo code didn't work, {{visitor.name}}. Could you tell me the code " +
      "you entered? I'll check it right away.",
  },
  {
    shortcut: "email",
    title: "Follow up by email",
    body: "I'll send the details to {{visitor.email}}. Is that address still right?",
  },
  {
    shortcut: "thanks",
    title: "Closing",
    body: "Thank you for chatting with us, {{visitor.name}}. Have a great day! — {{agent.name}}",
  },
];

export interface CannedVars {
  visitor: { name: string | null; email: string | null };
  agent: { name: string };
}

const FALLBACK: Record<string, string> = { "visitor.name": "there", "visitor.email": "your email" };

export function expand(template: string, vars: CannedVars): string {
  return template.replace(/\{\{\s*([a-z]+)\.([a-z_]+)\s*\}\}/gi, (whole, group: string, key: string) => {
    const scope = (vars as any)[group.toLowerCase()];
    const value = scope ? scope[key.toLowerCase()] : undefined;
    if (typeof value === "string" && value) return value;
    return FALLBACK[`${group}.${key}`.toLowerCase()] ?? whole;
  });
}

export function matchCanned(list: Canned[], query: string): Canned[] {
  const q = query.toLowerCase();
  return list.filter(
    (c) => c.shortcut.toLowerCase().startsWith(q) || c.title.toLowerCase().includes(q),
  );
}
