export { DashboardAssets, isDashboardPath, DASHBOARD_ASSETS_DIR, DASHBOARD_CSP } from './dashboard-assets.js';
