document.body.textContent = "console placeholder";
