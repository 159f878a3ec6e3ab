// Package engine binds the reconciler to the real host. It implements
// reconcile's driver interfaces and its observer by combining the image
// store, networking, volumes, the container runtime and the metadata store:
// making one container needs all of them, and no lower package should know
// about the others.
package engine
