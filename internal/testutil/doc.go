// Package testutil holds helpers shared by berth's tests: the root gate,
// leak checks and offline test images.
package testutil
