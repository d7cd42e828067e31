/// <reference lib="dom" />
/** The VS Code webview API handle and typed messaging. */
import type { ToHost, ToView } from './messages';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): any; setState(s: any): void };

const vscode = acquireVsCodeApi();

export function send(m: ToHost): void {
  vscode.postMessage(m);
}

export function onMessage(f: (m: ToView) => void): void {
  window.addEventListener('message', (e: MessageEvent) => f(e.data as ToView));
}

export function saveState(s: unknown): void {
  vscode.setState(s);
}

export function loadState<T>(): T | undefined {
  return vscode.getState() as T | undefined;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function icon(name: string, title?: string): HTMLElement {
  const i = el('span', `codicon codicon-${name}`);
  if (title) i.title = title;
  i.setAttribute('aria-hidden', 'true');
  return i;
}

export function button(iconName: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', 'icon-button');
  b.title = title;
  b.setAttribute('aria-label', title);
  b.append(icon(iconName));
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}
