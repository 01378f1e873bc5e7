/* The company picker of a policy page: search ConnectWise companies as you type (the page's own
   JSON endpoint, which asks ConnectWise through the hook), then list the chosen company's sites.
   Every value is put in the page as text, never as HTML. Without this script the Search button
   reloads the page with the results, and the site list stays "No site". */
(function () {
  "use strict";
  var search = document.querySelector("form.cw-search[data-companies]");
  var box = document.getElementById("cw-companies");
  var site = document.getElementById("cw-site");
  if (!search || !box || !site || !window.fetch) {
    return;
  }
  var api = search.getAttribute("data-companies");
  var query = search.querySelector("[name=q]");
  var status = search.querySelector("[name=status]");
  var type = search.querySelector("[name=type]");
  var legend = box.querySelector("legend");
  var timer = null;
  var searches = 0;
  var siteLoads = 0;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function clear() {
    while (box.lastChild && box.lastChild !== legend) {
      box.removeChild(box.lastChild);
    }
  }

  function message(text) {
    clear();
    box.appendChild(element("p", text, "cw-muted"));
  }

  function show(companies) {
    clear();
    if (!companies.length) {
      message("No company matches.");
      return;
    }
    companies.forEach(function (company) {
      var label = element("label", "", "cw-company");
      var input = element("input");
      input.type = "radio";
      input.name = "company_id";
      input.value = String(company.id);
      input.required = true;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + company.name + " "));
      var details = [company.identifier, company.status].filter(Boolean).join(", ");
      label.appendChild(element("span", "(" + details + ")", "cw-muted"));
      box.appendChild(label);
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } }).then(
      function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error((body && body.detail) || "HTTP " + response.status);
          }
          return body;
        });
      }
    );
  }

  function find() {
    var mine = ++searches;
    var params = new URLSearchParams({ q: query.value, status: status.value, type: type.value });
    box.setAttribute("aria-busy", "true");
    getJson(api + "?" + params.toString())
      .then(function (companies) {
        if (mine === searches) {
          show(companies);
        }
      })
      .catch(function (error) {
        if (mine === searches) {
          message(String(error.message || error));
        }
      })
      .then(function () {
        if (mine === searches) {
          box.removeAttribute("aria-busy");
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(find, 250);
  }

  function loadSites(companyId) {
    var mine = ++siteLoads;
    while (site.options.length > 1) {
      site.remove(1);
    }
    getJson(api + "/" + encodeURIComponent(companyId) + "/sites")
      .then(function (sites) {
        if (mine !== siteLoads) {
          return;
        }
        sites.forEach(function (s) {
          var option = element("option", s.name);
          option.value = String(s.id);
          site.appendChild(option);
        });
        site.setAttribute("data-loaded", companyId);
      })
      .catch(function () {
        /* no sites listed: "No site" stays, the server checks any site anyway */
      });
  }

  query.addEventListener("input", later);
  status.addEventListener("change", find);
  type.addEventListener("input", later);
  search.addEventListener("submit", function (event) {
    event.preventDefault();
    find();
  });
  box.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "company_id" && target.checked) {
      loadSites(target.value);
    }
  });
})();
