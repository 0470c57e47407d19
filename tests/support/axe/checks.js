// The page checks of the headless-Chromium tests (tests/src/browser.rs, `Browser::audit`), injected
// next to axe-core into every page the tests visit. Each function returns plain JSON: a list of
// problems (strings naming the element), or a state for the Rust side to decide on.
(() => {
  if (window.__wrkChecks) return;

  /** `tag#id.class…` plus the start of its text: enough to find the element in the page. */
  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += `#${el.id}`;
    if (typeof el.className === 'string' && el.className.trim()) d += `.${el.className.trim().split(/\s+/).join('.')}`;
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return text ? `${d} "${text}"` : d;
  };

  /** [r, g, b, a] of a computed colour (`rgb()`, `rgba()` or `color(srgb …)`), or null. */
  const parse = (c) => {
    let m = /^rgba?\(([^)]+)\)$/.exec(c);
    if (m) {
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = /^color\(srgb ([^)]+)\)$/.exec(c);
    if (m) {
      const p = m[1].split(/[\s/]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    return null;
  };
  const luminance = ([r, g, b]) => {
    const lin = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  /** The opaque colour behind `el` (its ancestors' backgrounds, composited), for a ring drawn around it. */
  const backdrop = (el) => {
    const layers = [];
    for (let n = el.parentElement; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = matchMedia('(prefers-color-scheme: dark)').matches ? [0, 0, 0, 1] : [255, 255, 255, 1];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a), 1];
    return out;
  };

  let dirty = false;
  let audited = false;

  window.__wrkChecks = {
    /** True once the page has loaded and nothing on it says it is still busy. */
    settled() {
      const b = document.body;
      return document.readyState === 'complete' && !!b
        && !document.querySelector('[aria-busy="true"]')
        && (!b.dataset.page || b.dataset.ready === '1');
    },

    /**
     * After an emulated media change: every element's style computed afresh (a display toggle on
     * the root) and no transition left running, so colours are read at their final values; from
     * the top of the page, so nothing sits under the sticky top bar.
     */
    restyle() {
      const root = document.documentElement;
      root.style.display = 'none';
      void root.offsetHeight;
      root.style.display = '';
      scrollTo(0, 0);
      for (const a of document.getAnimations()) if (a instanceof CSSTransition) a.finish();
    },

    /** Elements that stick out of the viewport sideways (the innermost ones), when the page scrolls sideways. */
    overflow() {
      const root = document.documentElement;
      const width = root.clientWidth;
      if (root.scrollWidth <= width) return [];
      // An element inside a box that scrolls or clips sideways (and fits) does not widen the page.
      const clipped = (el) => {
        for (let n = el.parentElement; n && n !== document.body; n = n.parentElement) {
          if (getComputedStyle(n).overflowX !== 'visible' && n.getBoundingClientRect().right <= width + 1) return true;
        }
        return false;
      };
      const wide = [...document.body.querySelectorAll('*')].filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 1 && !clipped(el);
      });
      const innermost = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o)));
      return [`the page is ${root.scrollWidth}px wide in a ${width}px viewport`, ...innermost.slice(0, 5).map(describe)];
    },

    /**
     * The focused element and its focus ring (its own outline, or a `:focus-within` one on the box
     * around it): null when nothing (or the body) has focus.
     */
    focusRing() {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return null;
      const outlined = (n) => {
        const st = getComputedStyle(n);
        return st.outlineStyle !== 'none' && (parseFloat(st.outlineWidth) || 0) >= 1;
      };
      const ring = [el, el.parentElement, el.parentElement?.parentElement].find((n) => n && outlined(n)) || el;
      const s = getComputedStyle(ring);
      const visible = outlined(ring);
      const color = parse(s.outlineColor);
      return {
        element: describe(el),
        outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
        visible,
        // Chromium's own `auto` ring is two-tone; a solid ring is measured against what is behind it.
        contrast: s.outlineStyle === 'auto' || !color ? null : Math.round(contrast(color, backdrop(ring)) * 100) / 100,
      };
    },

    /** Remembers that the page was checked; any change to the document after this makes it due again. */
    markAudited() {
      audited = true;
      dirty = false;
      new MutationObserver(() => { dirty = true; })
        .observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
      window.__wrkChecks.markAudited = () => { audited = true; dirty = false; };
    },

    /** True when this document was never checked, or changed since. */
    due() {
      return !audited || dirty;
    },
  };
})();
