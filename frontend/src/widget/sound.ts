// A short, soft two-tone beep made with WebAudio (no audio file, nothing to fetch).
let ctx: AudioContext | null = null;

/** Call from a user gesture (opening the chat) so the browser lets us play later. */
export function unlockSound(): void {
  try {
    const Ctor = window.AudioContext || (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!ctx && Ctor) ctx = new Ctor();
    if (ctx && ctx.state === "suspended") void ctx.resume();
  } catch {
    ctx = null;
  }
}

export function beep(): void {
  try {
    if (!ctx) unlockSound();
    if (!ctx || ctx.state !== "running") return;
    const t = ctx.currentTime;
    for (const [freq, at] of [[880, 0], [1175, 0.09]] as const) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.12, t + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.12);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.13);
    }
  } catch {
    /* sound is a nicety */
  }
}
