package network

// TakeOverPorts is SwitchPorts for a start-first successor to whose
// mappings m match exactly the connections from's rules match (the same
// protocols, host addresses and host ports, only another container
// address): in one nft transaction, to's rules are inserted ahead of
// from's, so that every new connection reaches to from then on, and
// from's rules, shadowed, stay until UnpublishPorts(from). A transaction
// that deletes rules makes the kernel's commit take milliseconds (several
// on a busy host); one that only inserts does not, and the deletion can
// go on while from's connections drain. Connections already made keep
// going to from (conntrack keeps their translation).
func (h *Host) TakeOverPorts(from, to string, m []PortMapping) error {
	what := "taking over published ports of " + from + " for " + to
	if err := h.prepareMappings(what, to, m); err != nil {
		return err
	}
	return h.update(what, true, func(x *txn) error {
		tag := ownerTag(to)
		if err := x.deleteTagged(tag); err != nil { // none, unless a switch to it was cut short
			return err
		}
		queuePortRules(x, tag, m, (*nfTable).insert)
		return nil
	})
}
