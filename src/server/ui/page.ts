/** The web UI's one page: a shell the script fills (hash routes: `#/runs`, `#/runs/<id>`, `#/inbox`). */
export const pageHtml = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stepwise</title>
<link rel="stylesheet" href="/ui/style.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Stepwise</span>
  <nav id="nav" aria-label="Main" hidden>
    <a href="#/runs">Runs</a>
    <a href="#/inbox">Inbox</a>
    <span id="who" class="who"></span>
    <button type="button" id="logout">Log out</button>
  </nav>
</header>
<p id="status" class="status" role="status" aria-live="polite"></p>
<main id="main" tabindex="-1"><p>Loading…</p></main>
</body>
</html>
`;
