// A QR code drawn as SVG in the page (no image URL, so the CSP needs no
// data: source), from qrcode-generator; large enough to print.
import qrcode from 'qrcode-generator';

export function Qr(props: { text: string; label: string; size?: number }) {
  const qr = qrcode(0, 'M');
  qr.addData(props.text);
  qr.make();
  const n = qr.getModuleCount(), quiet = 4, total = n + 2 * quiet;
  let d = '';
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++)
      if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const size = props.size ?? 240;
  return (
    <svg class="vh-qr" role="img" aria-label={props.label} width={size} height={size}
      viewBox={`0 0 ${total} ${total}`} shape-rendering="crispEdges">
      <rect width={total} height={total} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
