/**
 * Calls `leave` when the page is being left (reload, navigation, tab closed, or put in the
 * back/forward cache: `pagehide`), and `back` when it is shown again from that cache. Outside a
 * browser it does nothing. Returns the function that stops listening.
 */
export function watchPageLifecycle(leave: () => void, back: () => void): () => void {
  if (typeof window === "undefined" || typeof window.addEventListener !== "function") return () => undefined;
  const onHide = (): void => leave();
  const onShow = (event: PageTransitionEvent): void => {
    if (event.persisted) back();
  };
  window.addEventListener("pagehide", onHide);
  window.addEventListener("pageshow", onShow);
  return () => {
    window.removeEventListener("pagehide", onHide);
    window.removeEventListener("pageshow", onShow);
  };
}
