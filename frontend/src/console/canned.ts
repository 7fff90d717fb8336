// Canned responses come from the server (/api/canned); with a conversation each has `text`,
// its variables ({{visitor.name}}, {{agent.name}}, {{site.name}}, ...) filled in there.

export interface Canned {
  id: number;
  shortcut: string;
  title: string;
  body: string;
  language: string;
  shared: boolean;
  owner_id: number | null;
  text?: string;
}

export function matchCanned(list: Canned[], query: string): Canned[] {
  const q = query.toLowerCase();
  return list.filter(
    (c) => c.shortcut.toLowerCase().startsWith(q) || c.title.toLowerCase().includes(q),
  );
}
