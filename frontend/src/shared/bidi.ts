// User text (names, message bodies) may carry bidi controls (U+202E "right-to-left override")
// that would reorder the text around it. Inside markup it is isolated with `dir="auto"` or
// <bdi>; interpolated into a sentence ("Anna is typing…") it is wrapped in FIRST STRONG
// ISOLATE ... POP DIRECTIONAL ISOLATE, the same isolation as plain text.
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}
