// Text helpers for source messages.

// SourceState.message allows 4096 characters; leave room for a prefix the caller may add.
const MAX_MESSAGE_LENGTH = 4000;

/** An unknown thrown value as text. Duck-typed: errors from another realm fail `instanceof Error`. */
export function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

export function clip(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}
