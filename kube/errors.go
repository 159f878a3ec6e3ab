package kube

import apierrors "k8s.io/apimachinery/pkg/api/errors"

func notFound(err error) bool { return apierrors.IsNotFound(err) }

// IsConflict reports whether err is a server-side apply conflict with
// another field manager (--force-conflicts takes the fields).
func IsConflict(err error) bool { return apierrors.IsConflict(err) }
