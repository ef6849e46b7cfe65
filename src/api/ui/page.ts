/**
 * The dashboard's HTML: the login form and the empty sections that /ui/app.js fills in. It
 * holds no data and no inline script (the Content-Security-Policy forbids both).
 */
export const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quorate</title>
<link rel="stylesheet" href="/ui/style.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<header>
  <h1>Quorate</h1>
  <p id="contact" role="status"></p>
  <button id="logout" type="button" hidden>Log out</button>
</header>
<main>
  <form id="login" hidden>
    <h2>Log in</h2>
    <label for="token">Admin token (or an API token with the role read)</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Log in</button>
    <p id="login-error" class="bad" role="alert"></p>
  </form>
  <div id="dashboard" hidden>
    <section>
      <h2>Cluster</h2>
      <dl>
        <dt>quorum</dt><dd id="quorum"></dd>
        <dt>leader</dt><dd id="leader"></dd>
        <dt>term</dt><dd id="term"></dd>
        <dt>last_update</dt><dd id="last-update"></dd>
      </dl>
      <ul id="warnings"></ul>
    </section>
    <section>
      <h2>Nodes</h2>
      <table id="nodes">
        <thead><tr><th>node</th><th>address</th><th>role</th><th>state</th><th>applied</th><th>lag</th><th>last contact</th><th>jobs</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="nodes-problem" class="bad"></p>
    </section>
    <section>
      <h2>Jobs</h2>
      <table id="jobs">
        <thead><tr><th>name</th><th>version</th><th>running</th><th>status</th><th>where</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="jobs-problem" class="bad"></p>
    </section>
    <section>
      <h2>Events</h2>
      <ol id="events" reversed></ol>
      <p id="events-problem"></p>
    </section>
  </div>
</main>
</body>
</html>
`;
