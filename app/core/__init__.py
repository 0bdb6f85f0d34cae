"""The Qt-free engine: records, scanning, and the rules that give entries meaning."""
