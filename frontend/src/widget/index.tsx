document.body.textContent = "widget placeholder";
