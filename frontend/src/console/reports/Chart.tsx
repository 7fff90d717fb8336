// Conversations and service level per hour or day, drawn by uPlot.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t, tValue } from "../i18n";

export function Chart({ series }: { series: { bucket: string; points: Record<string, any>[] } }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const pts = series.points;
    const data: uPlot.AlignedData = [
      pts.map((p) => Date.parse(p.at) / 1000),
      pts.map((p) => p.conversations),
      pts.map((p) => p.abandoned),
      pts.map((p) => (p.service_level === null ? null : Math.round(p.service_level * 100))),
    ];
    const plot = new uPlot(
      {
        title: t("rep.per", { bucket: tValue("bucket", series.bucket) }),
        width: Math.max(320, box.current.clientWidth || 720),
        height: 220,
        series: [
          {},
          { label: t("rep.conversations"), stroke: "#2563eb", width: 2 },
          { label: t("rep.abandoned"), stroke: "#dc2626", width: 2 },
          { label: t("rep.serviceLevelPct"), stroke: "#059669", width: 2, scale: "%" },
        ],
        axes: [{}, {}, { scale: "%", side: 1, grid: { show: false } }],
        scales: { "%": { range: [0, 100] } },
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [series]);
  return <div class="report-chart" ref={box} data-testid="report-chart" role="img" aria-label={t("rep.chartLabel", { bucket: tValue("bucket", series.bucket) })} />;
}
