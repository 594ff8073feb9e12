// Small wording helpers shared by messages, so every message reads the same way.
/** Condition and recommendation messages start with a capital letter (CVO convention). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** "45%", "74.9%": one decimal at most, so a value just below a threshold does not print as the threshold. */
export function formatPercent(percent: number): string {
  return `${trimZeros(percent.toFixed(1))}%`;
}

/** "0.5/s", "120/s". */
export function formatRate(perSecond: number): string {
  return `${perSecond >= 100 ? Math.round(perSecond) : trimZeros(perSecond.toPrecision(2))}/s`;
}

export function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : trimZeros(value.toFixed(1));
}

function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/** "1h", "1h30m", "45s": a span of whole seconds, the way durations are written in a spec. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [
    [Math.floor(whole / 3600), 'h'],
    [Math.floor((whole % 3600) / 60), 'm'],
    [whole % 60, 's'],
  ];
  const shown = parts.filter(([amount]) => amount > 0).map(([amount, unit]) => `${amount}${unit}`);
  return shown.length > 0 ? shown.join('') : '0s';
}

/** "a, b and c". */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Host of a URL such as https://10.0.0.1:2379, or the text itself when it is not a URL. */
export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
