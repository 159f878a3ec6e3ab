// Package gitops is what berth says about a stack followed from git, light
// enough for every command to link: where the stack is followed from
// (Source, with the Auth of its repository), what a pass of the follower
// applied (Outcome), and what the follower did, kept as a status file
// (Status) that `berth reconcile status` reads. Fetching (package
// gitsource, on go-git) and following (package gitfollow) live apart, in
// berth-gitops, so that go-git weighs on no other command.
package gitops
