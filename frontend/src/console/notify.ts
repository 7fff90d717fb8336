// Attention: desktop notifications (only if the agent allowed them) and a short sound.

let audio: AudioContext | null = null;
export const prefs = { sound: true };

export function unlockAudio(): void {
  if (audio) return;
  const Ctor = (window as any).AudioContext || (window as any).webkitAudioContext;
  if (Ctor) audio = new Ctor();
}

export function beep(): void {
  if (!prefs.sound || !audio) return;
  try {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch {
    /* sound is a nicety */
  }
}

export function notificationState(): string {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export async function askPermission(): Promise<string> {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.requestPermission();
}

export function desktopNotify(title: string, body: string, tag: string, onClick: () => void): void {
  if (notificationState() !== "granted") return;
  try {
    const n = new Notification(title, { body: body.slice(0, 160), tag });
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}
