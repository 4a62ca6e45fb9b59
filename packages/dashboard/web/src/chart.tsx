/**
 * A small live time-series chart drawn by uPlot; it keeps the plot and only swaps in new data.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line of a chart. */
export interface LineSpec {
  label: string;
  color: string;
}

interface ChartProps {
  title: string;
  unit: string;
  lines: LineSpec[];
  /** [times (s), ...one array per line]; null where a value is unknown. */
  data: [number[], ...(number | null)[][]];
}

/** A titled uPlot chart sized to its container. */
export function Chart({ title, unit, lines, data }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth - 8),
      height: 170,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{ stroke: '#444' }, { stroke: '#444', label: unit, size: 60 }],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, spanGaps: false }))],
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth - 8), height: 170 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure class="chart" data-testid="chart" data-points={data[0].length}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`${title}: live chart of ${lines.map((l) => l.label).join(', ')}`} />
    </figure>
  );
}
