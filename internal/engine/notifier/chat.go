package notifier

// chatNotifiers are the chat types: slack, discord, rocket, msteams,
// googlechat, webex, telegram, lark, zoom, matrix, zulip.
func chatNotifiers() map[string]constructor {
	return map[string]constructor{}
}
