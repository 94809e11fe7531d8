{# report.html's first script: records what the Content-Security-Policy blocked on <html data-blocked-requests>.
   The page allows this script by its sha256. #}

document.addEventListener("securitypolicyviolation", function (event) {
  var root = document.documentElement;
  var blocked = JSON.parse(root.getAttribute("data-blocked-requests") || "[]");
  blocked.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
  root.setAttribute("data-blocked-requests", JSON.stringify(blocked));
});
