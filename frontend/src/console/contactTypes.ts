// Contacts as the API returns them (/api/contacts).
import { t } from "./i18n";

export interface ContactBrief {
  id: number;
  site_id: number;
  name: string | null;
  email: string | null;
  phone: string | null;
  external_id: string | null;
  tags: string[];
  consent: string;
  created_at: string;
  updated_at: string;
}

export interface ContactIdentity {
  id: number;
  kind: string;
  value: string;
  verified: boolean;
  visitor_id: number | null;
}

export interface ContactDetail extends ContactBrief {
  site_name: string | null;
  attributes: Record<string, unknown>;
  consent_at: string | null;
  identities: ContactIdentity[];
  conversations: {
    id: number;
    channel: string;
    status: string;
    subject: string | null;
    created_at: string;
    last_message: { body: string; author_kind: string } | null;
  }[];
  notes: { id: number; body: string; author_name: string | null; created_at: string }[];
}

export interface ImportReport {
  dry_run: boolean;
  rows: number;
  created: number;
  updated: number;
  error_count: number;
  errors: { row: number; column: string | null; error: string }[];
}

export function contactLabel(c: ContactBrief): string {
  return c.name || c.email || c.phone || c.external_id || t("contacts.contactN", { id: c.id });
}

export const CONTACTS_PATH = "/console/contacts";

// Go to a contact page from anywhere in the console (the shell follows popstate).
export function openContact(id: number): void {
  history.pushState(null, "", `${CONTACTS_PATH}/${id}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
}
