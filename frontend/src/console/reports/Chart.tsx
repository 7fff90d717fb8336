// Conversations and service level per hour or day, drawn by uPlot.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

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
        title: `Per ${series.bucket}`,
        width: Math.max(320, box.current.clientWidth || 720),
        height: 220,
        series: [
          {},
          { label: "Conversations", stroke: "#2563eb", width: 2 },
          { label: "Abandoned", stroke: "#dc2626", width: 2 },
          { label: "Service level %", stroke: "#059669", width: 2, scale: "%" },
        ],
        axes: [{}, {}, { scale: "%", side: 1, grid: { show: false } }],
        scales: { "%": { range: [0, 100] } },
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [series]);
  return <div class="report-chart" ref={box} data-testid="report-chart" role="img" aria-label={`Conversations, abandoned and service level per ${series.bucket}`} />;
}
