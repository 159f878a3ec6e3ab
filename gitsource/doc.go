// Package gitsource follows a stack kept in a git repository: a bare copy
// of the repository under berth's state root is fetched with go-git, a
// branch, tag or pinned commit is resolved to a commit, and the commit's
// tree below the stack's directory is exported to plain files that the
// spec loader reads. Credentials (an HTTPS token or user and password, an
// SSH key checked against known_hosts) are read from files or the
// environment, used only by the transport and never shown: every URL this
// package prints has its user information removed.
package gitsource
