// Loaded after require.js and before embed-amd.js on pages that hold widgets.
// embed-amd.js defines the @jupyter-widgets modules inline; each module derives the folder of the
// fonts it uses (Font Awesome) from its RequireJS address. Mapping those module names to this
// folder makes the fonts load from the book itself, never from the page's folder or a CDN.
(function () {
  var here = document.currentScript.src.replace(/\/[^/]*$/, "");
  window.require.config({
    paths: { "@jupyter-widgets": here, "@jupyter-widgets/html-manager/dist": here },
  });
})();
