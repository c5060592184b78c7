"""The app's screens: the coder, adjudication and suggestions review (one each), and the
pop-up dialogs they share (``dialogs``)."""
