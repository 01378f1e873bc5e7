/* The ConnectWise page inside the Airflow UI's frame: follow the UI's colour mode, and open
   links to Airflow's own pages in the UI rather than inside the frame. Without this script
   (or outside the frame) everything still works: links navigate the frame or the tab. */
(function () {
  "use strict";
  var top = null;
  try {
    if (window.top !== window && window.top.location.origin === window.location.origin) {
      top = window.top;
    }
  } catch (e) {
    top = null; /* another origin frames us: leave it alone */
  }
  if (!top) {
    return;
  }
  var root = document.documentElement;
  function followTheme() {
    var classes = top.document.documentElement.classList;
    if (classes.contains("dark")) {
      root.setAttribute("data-theme", "dark");
    } else if (classes.contains("light")) {
      root.setAttribute("data-theme", "light");
    } else {
      root.removeAttribute("data-theme");
    }
  }
  followTheme();
  new MutationObserver(followTheme).observe(top.document.documentElement, {
    attributes: true,
    attributeFilter: ["class"]
  });
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-airflow-ui]") : null;
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    try {
      /* the frame may not navigate the tab; the UI's router follows its own history instead */
      top.history.pushState(null, "", link.href);
      top.dispatchEvent(new top.PopStateEvent("popstate", { state: null }));
      event.preventDefault();
    } catch (e) {
      /* fall back to opening the page in the frame */
    }
  });
})();
