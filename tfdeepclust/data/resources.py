"""Data files shipped inside the package, with their SHA-256 (checked before every use)."""

from __future__ import annotations

from pathlib import Path

from tfdeepclust.data.checksums import verify_sha256

RESOURCE_DIR = Path(__file__).parent / "resources"

# Byte copies of ../shared/data/usps/usps.npz and ../shared/data/mice_protein/*.csv.
PACKAGED = {
    "usps.npz": "95e790f272f9ff97b293f6960cbae5a4632b24788dc64725d33a6fed681fab9f",
    "Data_Cortex_Nuclear.csv": "eb572e25bafaebcec6e5bd3d109b807818b29bdbb0cd62f07b4ef1544225bbaf",
}


def packaged_file(name: str) -> Path:
    """Returns the path of a packaged data file after verifying its checksum."""
    path = RESOURCE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"Packaged data file {path} is missing; reinstall tfdeepclust (pip install -e .)."
        )
    verify_sha256(path, PACKAGED[name], f"packaged {name}")
    return path
