import type { Lang } from "../shared/bridge";

/** Whole minutes for a wait, at least one. */
function minutes(seconds: number): number {
  return Math.max(1, Math.round(seconds / 60));
}

const en = {
  openChat: "Open chat",
  openChatUnread: (n: number) => `Open chat, ${n} unread ${n === 1 ? "message" : "messages"}`,
  closeChat: "Close chat",
  title: "Chat with us",
  subtitleOnline: "We usually reply within a minute",
  subtitleOffline: "Nobody is online right now",
  offlineNote:
    "Nobody can answer right now. Leave a message and your email address, and we will reply as soon as we are back.",
  leaveMessage: "Leave a message",
  emailLabel: "Your email (for our reply)",
  yourMessage: "Your message",
  placeholder: "Write a message…",
  topic: "Topic",
  anyTopic: "Anything",
  send: "Send",
  you: "You",
  agent: "Agent",
  typing: (name: string) => `${name} is typing…`,
  someone: "Someone",
  read: "Read",
  sending: "Sending…",
  failed: "Not sent",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  welcome: "Hi! How can we help you today?",
  messages: "Messages",
  newMessage: (name: string) => `New message from ${name}`,
  replyTo: "Reply to",
  queuePosition: (n: number, wait: number | null) =>
    wait === null
      ? `You are number ${n} in the queue. We will connect you as soon as someone is free.`
      : wait < 30
        ? `You are number ${n} in the queue, someone will be with you in a moment.`
        : `You are number ${n} in the queue, about ${minutes(wait)} min.`,
  overflowNobody: "Nobody can answer right now.",
  overflowLong: (wait: number | null) =>
    wait === null ? "The wait is longer than usual." : `The wait is longer than usual (about ${minutes(wait)} min).`,
  overflowAsk: "How would you like to continue?",
  optWait: "Keep waiting",
  optMessage: "Leave a message",
  optCallback: "Request a callback",
  optBot: "Talk to our bot",
  bot: "Bot",
  talkToPerson: "Talk to a person",
  continueWhatsapp: "Continue on WhatsApp",
  openWhatsapp: "Open WhatsApp",
  scanWhatsapp: "Or scan this code with your phone. Your chat continues there.",
  waPrefill: "Continue my chat",
  optLeave: "Leave the queue",
  phoneLabel: "Your phone number",
  whenLabel: "When suits you? (optional)",
  addLabel: "Anything to add? (optional)",
  sendMessage: "Send message",
  requestCallback: "Request callback",
  back: "Back",
  agentJoined: "An agent has joined the chat.",
  invitation: "Invitation to chat",
  chatNow: "Chat now",
  noThanks: "No thanks",
  tooLong: (n: number) => `Messages can have at most ${n} characters.`,
};
export type Strings = typeof en;

const de: Strings = {
  openChat: "Chat öffnen",
  openChatUnread: (n) => `Chat öffnen, ${n} ungelesene ${n === 1 ? "Nachricht" : "Nachrichten"}`,
  closeChat: "Chat schließen",
  title: "Chatten Sie mit uns",
  subtitleOnline: "Wir antworten meist innerhalb einer Minute",
  subtitleOffline: "Gerade ist niemand online",
  offlineNote:
    "Gerade kann niemand antworten. Hinterlassen Sie eine Nachricht und Ihre E-Mail-Adresse, wir melden uns, sobald wir zurück sind.",
  leaveMessage: "Nachricht hinterlassen",
  emailLabel: "Ihre E-Mail-Adresse (für unsere Antwort)",
  yourMessage: "Ihre Nachricht",
  placeholder: "Nachricht schreiben…",
  topic: "Thema",
  anyTopic: "Allgemein",
  send: "Senden",
  you: "Sie",
  agent: "Mitarbeiter",
  typing: (name) => `${name} schreibt…`,
  someone: "Jemand",
  read: "Gelesen",
  sending: "Wird gesendet…",
  failed: "Nicht gesendet",
  connecting: "Verbinde…",
  reconnecting: "Verbindung unterbrochen. Verbinde neu…",
  welcome: "Hallo! Wie können wir Ihnen helfen?",
  messages: "Nachrichten",
  newMessage: (name) => `Neue Nachricht von ${name}`,
  replyTo: "Antwort an",
  queuePosition: (n, wait) =>
    wait === null
      ? `Sie sind Nummer ${n} in der Warteschlange. Wir verbinden Sie, sobald jemand frei ist.`
      : wait < 30
        ? `Sie sind Nummer ${n} in der Warteschlange, gleich ist jemand für Sie da.`
        : `Sie sind Nummer ${n} in der Warteschlange, etwa ${minutes(wait)} Min.`,
  overflowNobody: "Gerade kann niemand antworten.",
  overflowLong: (wait) =>
    wait === null ? "Die Wartezeit ist länger als sonst." : `Die Wartezeit ist länger als sonst (etwa ${minutes(wait)} Min.).`,
  overflowAsk: "Wie möchten Sie weitermachen?",
  optWait: "Weiter warten",
  optMessage: "Nachricht hinterlassen",
  optCallback: "Rückruf anfordern",
  optBot: "Mit unserem Bot sprechen",
  bot: "Bot",
  talkToPerson: "Mit einem Menschen sprechen",
  continueWhatsapp: "Auf WhatsApp weiterschreiben",
  openWhatsapp: "WhatsApp öffnen",
  scanWhatsapp: "Oder scannen Sie diesen Code mit dem Handy. Ihr Chat geht dort weiter.",
  waPrefill: "Meinen Chat fortsetzen",
  optLeave: "Warteschlange verlassen",
  phoneLabel: "Ihre Telefonnummer",
  whenLabel: "Wann passt es Ihnen? (optional)",
  addLabel: "Möchten Sie etwas ergänzen? (optional)",
  sendMessage: "Nachricht senden",
  requestCallback: "Rückruf anfordern",
  back: "Zurück",
  agentJoined: "Ein Mitarbeiter ist jetzt im Chat.",
  invitation: "Einladung zum Chat",
  chatNow: "Jetzt chatten",
  noThanks: "Nein danke",
  tooLong: (n) => `Nachrichten dürfen höchstens ${n} Zeichen lang sein.`,
};

const da: Strings = {
  openChat: "Åbn chat",
  openChatUnread: (n) => `Åbn chat, ${n} ulæste ${n === 1 ? "besked" : "beskeder"}`,
  closeChat: "Luk chat",
  title: "Chat med os",
  subtitleOnline: "Vi svarer normalt inden for et minut",
  subtitleOffline: "Ingen er online lige nu",
  offlineNote:
    "Ingen kan svare lige nu. Skriv en besked og din e-mailadresse, så svarer vi, så snart vi er tilbage.",
  leaveMessage: "Efterlad en besked",
  emailLabel: "Din e-mail (til vores svar)",
  yourMessage: "Din besked",
  placeholder: "Skriv en besked…",
  topic: "Emne",
  anyTopic: "Generelt",
  send: "Send",
  you: "Dig",
  agent: "Medarbejder",
  typing: (name) => `${name} skriver…`,
  someone: "Nogen",
  read: "Læst",
  sending: "Sender…",
  failed: "Ikke sendt",
  connecting: "Forbinder…",
  reconnecting: "Forbindelsen blev afbrudt. Forbinder igen…",
  welcome: "Hej! Hvordan kan vi hjælpe dig?",
  messages: "Beskeder",
  newMessage: (name) => `Ny besked fra ${name}`,
  replyTo: "Svar til",
  queuePosition: (n, wait) =>
    wait === null
      ? `Du er nummer ${n} i køen. Vi forbinder dig, så snart nogen er ledig.`
      : wait < 30
        ? `Du er nummer ${n} i køen, om et øjeblik er der nogen klar til dig.`
        : `Du er nummer ${n} i køen, ca. ${minutes(wait)} min.`,
  overflowNobody: "Ingen kan svare lige nu.",
  overflowLong: (wait) =>
    wait === null ? "Ventetiden er længere end normalt." : `Ventetiden er længere end normalt (ca. ${minutes(wait)} min).`,
  overflowAsk: "Hvordan vil du fortsætte?",
  optWait: "Bliv ved med at vente",
  optMessage: "Efterlad en besked",
  optCallback: "Bed om at blive ringet op",
  optBot: "Tal med vores bot",
  bot: "Bot",
  talkToPerson: "Tal med et menneske",
  continueWhatsapp: "Fortsæt på WhatsApp",
  openWhatsapp: "Åbn WhatsApp",
  scanWhatsapp: "Eller scan koden med din telefon. Din chat fortsætter der.",
  waPrefill: "Fortsæt min chat",
  optLeave: "Forlad køen",
  phoneLabel: "Dit telefonnummer",
  whenLabel: "Hvornår passer det dig? (valgfrit)",
  addLabel: "Vil du tilføje noget? (valgfrit)",
  sendMessage: "Send besked",
  requestCallback: "Bed om opkald",
  back: "Tilbage",
  agentJoined: "En medarbejder er nu med i chatten.",
  invitation: "Invitation til chat",
  chatNow: "Chat nu",
  noThanks: "Nej tak",
  tooLong: (n) => `Beskeder må højst have ${n} tegn.`,
};

export const STRINGS: Record<Lang, Strings> = { en, de, da };
