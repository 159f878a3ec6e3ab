package spec

// Separator joins the parts of the names berth makes up, as Docker
// Compose's: container names <project>-<service>-<n> and one-off names
// <project>-<service>-run-<id>. Docker Compose's --compatibility (or
// COMPOSE_COMPATIBILITY) makes it "_", Compose v1's; the CLI sets it once,
// before loading anything. Names already recorded are kept as they are.
var Separator = "-"
