// What the server refused, in the agent's language: an error's code picks a translated text
// (lang/*.pages.ts, keys `err.<code>`); a code without one is told by its HTTP status class. The
// server's English message is shown only when the console is in English and nothing better is known.
import { ApiError } from "./api";
import { lang, t, tMaybe } from "./i18n";

function byStatus(status: number): string {
  if (status === 0) return t("err.network");
  if (status === 401) return t("err.unauthorized");
  if (status === 403) return t("err.forbidden");
  if (status === 404) return t("err.not_found");
  if (status === 409) return t("err.conflict");
  if (status === 413) return t("err.too_large");
  if (status === 429) return t("err.rate_limited");
  if (status >= 500) return t("err.internal");
  return t("err.invalid");
}

/** The text to show for a failure: an ApiError, an error frame ({code, message}) or anything thrown. */
export function errorText(e: unknown): string {
  const code = e && typeof e === "object" && "code" in e ? String((e as { code: unknown }).code) : "";
  const message = e && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : "";
  const known = code ? tMaybe(`err.${code}`) : null;
  if (known) return known;
  if (lang() === "en" && message) return message;
  if (e instanceof ApiError) return byStatus(e.status);
  return t("err.failed");
}
