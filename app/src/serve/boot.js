// Starts the WASM client once the page has painted its content (served as /boot.js;
// serve/boot.rs). The client's module and its 400 KB of WebAssembly were requested before
// the first paint and competed with what the page shows first; now they start when the
// browser reports the first contentful paint (or after a second at the latest, and at once
// in a hidden tab, which paints nothing).
(() => {
  const app = document.currentScript && document.currentScript.dataset.app;
  if (!app) return;
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    import(app);
  };
  if (document.visibilityState === 'hidden') return start();
  try {
    new PerformanceObserver((list, observer) => {
      if (list.getEntriesByName('first-contentful-paint').length) {
        observer.disconnect();
        setTimeout(start, 0);
      }
    }).observe({ type: 'paint', buffered: true });
  } catch (_) {
    // No paint timing here: the fallback below starts it.
  }
  setTimeout(start, 1000);
})();
