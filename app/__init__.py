"""Privacy Inspector: what a website really left in your browsers."""

__version__ = "0.1.0"

# The reverse-DNS id of the desktop app: its .desktop file, AppStream id, icon
# name and Flatpak id (packaging/).
APP_ID = "io.github.privacy_inspector.PrivacyInspector"
