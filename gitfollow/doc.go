// Package gitfollow feeds berth's reconcile loop from git: each pass fetches
// the repository, and a commit not seen before is exported beside the
// live copy of the stack and loaded there first; only a commit that loads
// replaces the live copy the pass converges to. A commit that does not
// load, or whose plan fails, is remembered as failed and not applied: the
// live copy goes back to the last applied commit, so the running stack and
// its drift repair stay on it until the branch moves on. The outcome of
// every pass is kept as a status file beside the copy.
package gitfollow
