"""The drivers' page (issue 23): one mobile page a truck in a waiting area, reached by an
unguessable token (or a short code), no account: its position, its expected call time and,
once called, its lane or carrier slot and the way; live over Server-Sent Events; in
Vietnamese, Chinese or English. It shows nothing of other trucks or firms."""
