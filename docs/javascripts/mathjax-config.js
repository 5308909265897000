// MathJax 3 with SVG output (shipped in docs/javascripts/mathjax, so pages render
// offline, with no font files) for the formulas pymdownx.arithmatex marks:
// \( ... \) inline, \[ ... \] as blocks
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};

// instant navigation loads pages without reloading the script: typeset each one
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
