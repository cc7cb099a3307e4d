package notifier

// streamNotifiers are the types that hand the event to another system
// whole: generic, generic-hmac, nats, googlepubsub, azureeventhub, otel.
func streamNotifiers() map[string]constructor {
	return map[string]constructor{
		"generic":       newGeneric,
		"generic-hmac":  newGenericHMAC,
		"otel":          newOtel,
		"nats":          newNATS,
		"googlepubsub":  newGooglePubSub,
		"azureeventhub": newAzureEventHub,
	}
}
