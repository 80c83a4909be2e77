// Starts GraphiQL on the alliance ledger's /graphql: queries and mutations by POST, subscriptions
// over a websocket on the same path (graphql-transport-ws). The headers set in GraphiQL's
// headers pane (e.g. {"Authorization": "Bearer <token>"}) go with every POST and, as the
// connection_init payload, with each subscription's websocket.
(function () {
  "use strict";
  var endpoint = new URL("/graphql", window.location.origin);
  var subscriptions = new URL("/graphql", window.location.origin);
  subscriptions.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.toString(),
    subscriptionUrl: subscriptions.toString(),
    fetch: function (url, options) {
      return window.fetch(url, Object.assign({}, options, { credentials: "same-origin" }));
    },
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
    })
  );
})();
