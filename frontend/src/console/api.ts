// HTTP helper: JSON in and out, session cookie, CSRF header on every state-changing request.

let csrf = "";

export function setCsrf(token: string): void {
  csrf = token;
}

export function getCsrf(): string {
  return csrf;
}

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const code = (data && data.code) || "http_error";
    const message = (data && data.message) || `Request failed (${res.status})`;
    throw new ApiError(res.status, code, message);
  }
  return data as T;
}

/** A file as the raw request body with its own Content-Type (an agent's picture). */
export async function upload<T = any>(path: string, file: Blob, method = "PUT"): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { Accept: "application/json", "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": csrf },
    credentials: "same-origin",
    body: file,
  }).catch(() => {
    throw new ApiError(0, "network", "The server cannot be reached.");
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, (data && data.code) || "http_error", (data && data.message) || `Request failed (${res.status})`);
  return data as T;
}
